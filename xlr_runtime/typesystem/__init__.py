"""The synthetic.xml type system: property kinds, types, plugins and the registry that loads them."""
