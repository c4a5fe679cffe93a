"""What an operator's cloud has before anyone checks it: flavors, an image, networks."""

from __future__ import annotations

from typing import Any

from .api import Api

FLAVORS = {"m1.tiny": (1, 512, 1), "m1.small": (2, 2048, 10)}
#: External networks (floating IP pools) with their allocation pools, and one internal.
NETWORKS = {
    "public": ("203.0.113.0/28", "203.0.113.2", "203.0.113.14"),
    "provider": ("198.51.100.0/29", "198.51.100.2", "198.51.100.6"),
}
IMAGE = "cirros-fake"


def seed(api: Api) -> dict[str, Any]:
    """Create them; return their ids by name."""
    ids: dict[str, Any] = {"flavors": {}, "networks": {}}
    for name, (vcpus, ram, disk) in FLAVORS.items():
        flavor = api.post(
            "compute",
            "/flavors",
            {"flavor": {"name": name, "vcpus": vcpus, "ram": ram, "disk": disk}},
        )["flavor"]
        ids["flavors"][name] = flavor["id"]
    image = api.post(
        "image",
        "/images",
        {"name": IMAGE, "disk_format": "raw", "container_format": "bare", "visibility": "public"},
    )
    api.request_raw("PUT", "image", f"/images/{image['id']}/file", b"\0" * 1024)
    ids["image"] = image["id"]
    for name, (cidr, first, last) in NETWORKS.items():
        network = api.post(
            "network",
            "/networks",
            {
                "network": {
                    "name": name,
                    "router:external": True,
                    "provider:network_type": "flat",
                    "provider:physical_network": name,
                }
            },
        )["network"]
        api.post(
            "network",
            "/subnets",
            {
                "subnet": {
                    "network_id": network["id"],
                    "ip_version": 4,
                    "cidr": cidr,
                    "enable_dhcp": False,
                    "allocation_pools": [{"start": first, "end": last}],
                }
            },
        )
        ids["networks"][name] = network["id"]
    private = api.post(
        "network",
        "/networks",
        {
            "network": {
                "name": "private",
                "provider:network_type": "vlan",
                "provider:physical_network": "physnet1",
                "provider:segmentation_id": 100,
            }
        },
    )["network"]
    api.post(
        "network",
        "/subnets",
        {
            "subnet": {
                "network_id": private["id"],
                "ip_version": 4,
                "cidr": "10.0.0.0/24",
                "enable_dhcp": False,
            }
        },
    )
    ids["networks"]["private"] = private["id"]
    return ids
