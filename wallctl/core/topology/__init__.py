"""The estate's topology: the model, its files, and the alarm state painted on it."""
