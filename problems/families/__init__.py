"""One module per problem family; each registers itself with problems.registry.register."""
