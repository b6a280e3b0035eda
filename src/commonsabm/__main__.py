"""python -m commonsabm: see commonsabm.cli."""

if __name__ == "__main__":
    from commonsabm.runs.stopping import exit_stopped, guard_command, received

    guard_command()  # before the imports below, which take a second or more: a Ctrl-C then is a stop too
    try:
        from commonsabm.cli import main
    except BaseException:
        if received() is None:
            raise
        exit_stopped(received())
    main()
