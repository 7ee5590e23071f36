"""The desk supervisor: starts a desk's media driver and daemons, watches them, restarts them, stops them.

- `supervisor.py`: the Supervisor (one per running desk instance, in its own process or in the
  foreground `aerodesk up`);
- `runtime.py`: the per-instance runtime file and lock (who is running, with which pids);
- `processes.py`: process identity and stopping processes by pid;
- `monitor.py`: the heartbeat observer (supervisor, `aerodesk status`, tests);
- `control.py`: the supervisor's control socket (`aerodesk restart DAEMON`);
- `ops.py`: up / down / status / restart as library calls (the CLI is a thin layer over them).
"""
