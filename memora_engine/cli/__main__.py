"""``python -m memora_engine.cli``: the same as the ``memora`` console script."""

from memora_engine.cli import main

if __name__ == "__main__":
    main()
