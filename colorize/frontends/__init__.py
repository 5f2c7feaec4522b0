"""The front ends: the command line and the wizard ask and print; they never compute."""
