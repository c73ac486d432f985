"""The Hugging Face Space of this metric: a Gradio widget over the published module."""

import evaluate
from evaluate.utils import launch_gradio_widget

if __name__ == "__main__":
    launch_gradio_widget(evaluate.load("mirage/exact_match_at_length"))
