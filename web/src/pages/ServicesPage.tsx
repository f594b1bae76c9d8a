// Every service that has sent spans, with its activity, and how to connect one when there is none.
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { listServices } from '../api/endpoints.ts';
import { SetupSnippets } from '../components/SetupSnippets.tsx';
import { EmptyState, ErrorNotice, Loading } from '../components/status.tsx';
import { Time } from '../components/Time.tsx';
import { paths } from '../paths.ts';

export function ServicesPage() {
  const services = useQuery({ queryKey: ['services'], queryFn: listServices, refetchInterval: 10_000 });
  return (
    <div className="page">
      <div className="page-head">
        <h1>Services</h1>
        <p className="muted">
          Applications that export spans to this server, by their OpenTelemetry service.name.
        </p>
      </div>
      {services.isLoading ? (
        <Loading label="Loading services" />
      ) : services.error ? (
        <ErrorNotice error={services.error} retry={() => void services.refetch()} />
      ) : services.data?.length === 0 ? (
        <EmptyState title="No spans received yet">
          <p>
            Point your application at this server and its workflow runs and traces appear here within seconds.
            Create an API key on the <Link to={paths.apiKeys()}>API keys</Link> page, then configure the
            exporter:
          </p>
          <SetupSnippets apiKey={null} />
        </EmptyState>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col" className="num">
                Traces
              </th>
              <th scope="col" className="num">
                Spans
              </th>
              <th scope="col">Last seen</th>
              <th scope="col">
                <span className="sr-only">Views</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {services.data?.map((service) => (
              <tr key={service.service_name}>
                <th scope="row">
                  <Link to={paths.workflowRuns(service.service_name)} className="strong-link">
                    {service.service_name}
                  </Link>
                </th>
                <td className="num">{service.trace_count.toLocaleString()}</td>
                <td className="num">{service.span_count.toLocaleString()}</td>
                <td>
                  <Time value={service.last_seen} relative />
                </td>
                <td className="row-links">
                  <Link to={paths.overview(service.service_name)}>Overview</Link>
                  <Link to={paths.workflowRuns(service.service_name)}>Workflow runs</Link>
                  <Link to={paths.traces(service.service_name)}>Traces</Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
