"""Strict TOML configuration: every error names the file, the key and what is wrong."""

from core.config.base import ConfigError, Table, configs_dir, load_toml

__all__ = ["ConfigError", "Table", "configs_dir", "load_toml"]
