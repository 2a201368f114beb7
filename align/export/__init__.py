"""Training sets from aligned audio: selection, splitting, clip cutting, manifests, tar shards."""
