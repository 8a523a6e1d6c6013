"""The riskmap algorithms. Each is one class for one riskmap subcommand (see base.py); a new
subcommand is a new module with one RiskmapAlgorithm subclass, added here."""
from .diff import DiffAlgorithm
from .eval import EvalAlgorithm
from .merge import MergeAlgorithm
from .report import ReportAlgorithm
from .scan import ScanAlgorithm

ALGORITHMS = [ScanAlgorithm, MergeAlgorithm, ReportAlgorithm, EvalAlgorithm, DiffAlgorithm]
