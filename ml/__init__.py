"""Pure PyTorch/NumPy models, data handling and evaluation. Never imports Django."""
