"""The client every agent, tool and test uses to talk to the research server (TCP or Unix socket)."""

from aarlab.client.client import AarClient, AarClientError

__all__ = ["AarClient", "AarClientError"]
