"""Running the processes: the wiring from settings to a booking service (``runtime``), the
background worker (``worker``), starting and stopping the three processes (``supervisor``), the
scaled topology on this machine (``scale``) and the embedded default's demo data (``demo``)."""
