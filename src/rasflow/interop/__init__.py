"""Readers and writers for the containers RAS data arrives in: logs, tables, BMCs, VMMs."""
