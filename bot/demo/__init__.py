"""The demo: the demo catalogue (``catalogue.yaml``) and generated demo history (:mod:`bot.demo.history`)."""
