"""Keras model and TFX Trainer/Tuner module functions of activespec."""
