"""What outlives a process or spans several: session snapshots and rooms (embedded and Redis)."""
