"""Alarms into the incident process: which incidents to open and update, who to tell and when (pure decisions)."""
