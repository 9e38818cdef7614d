"""The examples use pyidsql's own pytest plugin, as an application's tests would."""

pytest_plugins = ["pyidsql.testing"]
