from tikabot.cli.main import main

main()
