"""What `manage.py demo_train` prints of a run's progress: a BATMM run names the stage whose
epochs it counts (its counter restarts with each stage), a disentangler run its epoch."""
from types import SimpleNamespace

from portal.management.commands.demo_train import _epoch


def test_a_stage_run_names_its_stage_and_its_length():
    run = SimpleNamespace(epoch=3, loss_history=[{"stage": "VGG1D", "epoch": 8, "epochs": 8},
                                                 {"stage": "ResNet+SE", "epoch": 2, "epochs": 3}])
    assert _epoch(run) == "ResNet+SE epoch 2 of 3"


def test_a_disentangler_run_and_a_run_not_started_show_the_epoch():
    assert _epoch(SimpleNamespace(epoch=7, loss_history=[{"epoch": 7, "train": 0.1}])) == "epoch 7"
    assert _epoch(SimpleNamespace(epoch=0, loss_history=[])) == "epoch 0"
