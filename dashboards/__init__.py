"""The staff dashboard (Dash). Presentation only: it calls tracker's query and math functions."""
