"""Domain logic and state of RAVE Studio. No NiceGUI here; heavy work runs in services/workers/."""
