"""CIFAR-10 loading (data.cifar10: the official archive or an image-folder tree, decoded once and
cached), uploads, downloads and files.

Nothing is imported here: a package that imports its own modules is an import cycle, and a cycle
can deadlock when two sessions' threads import it for the first time at once (tests/test_imports.py)."""
