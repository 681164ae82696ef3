"""The IVR: YAML menus, their validation and versions, and the interpreter run over FastAGI."""
