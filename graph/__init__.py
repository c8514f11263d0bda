"""Store access: the only package that knows which triple store is behind the platform."""
