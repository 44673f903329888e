"""``python -m souk_operator``: run the operator."""

from souk_operator.main import main

main()
