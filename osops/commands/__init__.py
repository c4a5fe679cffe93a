"""cliff commands, one module per object."""
