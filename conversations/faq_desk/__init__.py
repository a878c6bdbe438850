"""The FAQ desk in the support chat: support agents curate the FAQ and answer tickets with
its entries (``desk`` wires it; one module per sub-flow).
Diagram: ``faq_desk.mmd`` in this package."""
