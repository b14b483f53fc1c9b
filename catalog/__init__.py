"""The catalog app: Doppel's data and the rules that keep it consistent."""
