from sensegraph.cli import app

app()
