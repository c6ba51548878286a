"""Configuration: one typed, validated Settings object per environment."""

from config.loader import available_environments, load_settings
from config.settings import ROLES, Role, Settings
from config.validation import ConfigError

__all__ = ["ROLES", "ConfigError", "Role", "Settings", "available_environments", "load_settings"]
