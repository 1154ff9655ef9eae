"""Settings modules: `dev` (default, embedded services), `test`, `production`.

All of them read the environment through the one `env` in `base`.
"""
