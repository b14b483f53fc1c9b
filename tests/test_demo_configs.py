"""The demo's model configs pass the same validation as any retrain (a typo or a retired setting
would otherwise surface only when `make demo` runs)."""
from catalog.model_config import normalise
from portal.management.commands.demo_train import DEMO_CONFIGS


def test_demo_configs_validate():
    for kind, config in DEMO_CONFIGS.items():
        normalised = normalise(kind, config)
        assert normalised["training"]["patience"] == 0

