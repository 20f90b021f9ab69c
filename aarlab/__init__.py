"""aarlab: the research library that ideas import, and the only aar code mounted into a sandbox.

It holds the W2S library (`aarlab.w2s`: data loading, model backends, training, losses, recipes,
baseline ideas, the idea runner) and the server client (`aarlab.client`). It has no task builder,
no reader of private labels and no server code, and imports nothing from `aar`.
"""
