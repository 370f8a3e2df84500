"""What the order engine has reported: order records (and which changed since they were last
taken) and the reports of ended tickets."""

from __future__ import annotations

from v6.execution.records import ExecutionReport, OrderRecord


class ReportBook:
    def __init__(self) -> None:
        self._records: dict[str, OrderRecord] = {}
        self._changed: list[OrderRecord] = []
        self._reports: dict[str, ExecutionReport] = {}
        self._finished: list[ExecutionReport] = []

    def note(self, record: OrderRecord) -> OrderRecord:
        """Remember ``record``; it is taken as changed unless only its time moved."""
        previous = self._records.get(record.order_id)
        if previous is None or not previous.same_state(record):
            self._records[record.order_id] = record
            self._changed.append(record)
        return record

    def take_records(self) -> tuple[OrderRecord, ...]:
        records, self._changed = tuple(self._changed), []
        return records

    def finish(self, report: ExecutionReport) -> None:
        self._reports[report.ticket] = report
        self._finished.append(report)

    def repeat(self, key: str) -> None:
        """Report an ended ticket again (its request was submitted again)."""
        self._finished.append(self._reports[key])

    def get(self, key: str) -> ExecutionReport | None:
        return self._reports.get(key)

    def take_finished(self) -> tuple[ExecutionReport, ...]:
        reports, self._finished = tuple(self._finished), []
        return reports
