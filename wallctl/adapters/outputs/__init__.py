"""The drivers of beacons, stack lights and relays (``outputs:``): Modbus TCP, MQTT and HTTP, each device on a
thread of its own (:mod:`wallctl.adapters.outputs.device`), and what plugs them into a controller
(:mod:`wallctl.adapters.outputs.start`) or walks them through their patterns (``wallctl outputs``)."""
