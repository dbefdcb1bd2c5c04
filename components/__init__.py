"""Custom TFX components of activespec, one package per component (component, executor,
README), in the style of tfx-addons."""
