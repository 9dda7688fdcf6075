from tikabot.cli import main

main()
