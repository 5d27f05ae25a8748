"""Sound policy: which alarm sounds, which sound, and when (the annunciator)."""
