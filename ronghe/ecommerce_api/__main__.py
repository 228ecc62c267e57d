"""`python -m ronghe.ecommerce_api`: the server alone, as `start_server_process` runs it.

Same options as `ronghe serve-ecommerce`, without importing the other commands.
"""

import argparse
import sys

from ronghe.ecommerce_api.command import add_arguments

parser = argparse.ArgumentParser(prog="python -m ronghe.ecommerce_api")
add_arguments(parser)
arguments = parser.parse_args()
sys.exit(arguments.handler(arguments))
