"""The lecture's CIFAR-10 network, its checkpoint format, training and evaluation."""
