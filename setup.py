from setuptools import find_packages, setup

setup(
    name="gtickets",
    version="0.1.0",
    description="Grokked lottery tickets in JAX/Flax (Minegishi et al., arXiv 2310.19470)",
    packages=find_packages(include=["gtickets", "gtickets.*"]),
    python_requires=">=3.10",
    install_requires=[
        "jax>=0.4.35",
        "flax>=0.10",
        "optax>=0.2.3",
        "orbax-checkpoint>=0.11",
        "chex>=0.1.87",
        "networkx>=3.2",
        "scipy>=1.11",
        "ml-collections>=1.0",
        "absl-py>=2.0",
        "numpy>=1.26",
        "matplotlib>=3.8",
        "tqdm>=4.66",
        "pandas>=2.0",
        "tabulate>=0.9",   # pandas' to_markdown
        "tensorboard>=2.15",  # the viewer of the logs every phase writes (no TensorFlow)
    ],
    extras_require={"test": ["pytest>=8", "pytest-xdist>=3"]},
)
