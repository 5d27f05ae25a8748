"""The I/O edges: the MQTT link, the audio output, the embedded broker, the scenario simulator. Foreign types are
converted here, at the edge."""
