from chorus.sandbox.server import main

main()
