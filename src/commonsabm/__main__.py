"""python -m commonsabm: see commonsabm.cli."""

from commonsabm.cli import main

if __name__ == "__main__":
    main()
