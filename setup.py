"""What pyproject.toml cannot say: the optional C extension, and data/ shipped in wheels as
dualthreat/_default_data (found there by dualthreat.store.defaults.default_data_dir)."""

from setuptools import Extension, setup
from setuptools.command.build_py import build_py
from setuptools.errors import FileError


class BuildPyWithDefaultData(build_py):
    def run(self):
        super().run()
        if self.editable_mode:  # an editable install reads data/ of the checkout
            return
        try:
            self.copy_tree("data", f"{self.build_lib}/dualthreat/_default_data")
        except FileError as exc:
            raise FileError(f"the default dataset data/ is needed in the wheel: {exc}") from None


setup(
    cmdclass={"build_py": BuildPyWithDefaultData},
    ext_modules=[
        # optional: without a C compiler the install still succeeds and the Python fallback is used
        Extension("dualthreat.ingest._gdeltscan", ["src/dualthreat/ingest/_gdeltscan.c"],
                  extra_compile_args=["-O2"], optional=True),
        # the threat model's log-likelihood; no floating-point contraction, so that it matches the Python loop
        Extension("dualthreat.model._kalman", ["src/dualthreat/model/_kalman.c"],
                  extra_compile_args=["-O2", "-ffp-contract=off"], optional=True),
    ],
)
