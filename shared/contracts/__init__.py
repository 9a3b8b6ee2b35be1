"""Event and data contracts shared by every service: the only place payload schemas live."""
