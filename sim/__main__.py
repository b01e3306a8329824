from sim.cli.main import run

run()
