"""Recommendations and research gaps from the knowledge graph: a graph snapshot (``snapshot``), the GNN
(``models``) and its baselines (``baselines``) behind one ``Recommender`` protocol (``registry``), the evaluation
harness (``evaluate``), training and versioned artefacts (``train``, ``artifacts``), and the API the CLI and
the HTTP layer call (``service``). Nothing here imports torch until a torch-backed recommender is created."""
