"""The tenant scenarios (see tenants_suite.py): one module each."""
