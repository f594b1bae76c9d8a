import type { ReactNode } from 'react';
import { Link, NavLink } from 'react-router';
import { paths } from '../paths.ts';

/** Breadcrumb, the views of a service and a link to search its spans. */
export function ServiceHeader({ service, children }: { service: string; children?: ReactNode }) {
  return (
    <div className="page-head">
      <nav className="breadcrumb" aria-label="Breadcrumb">
        <Link to={paths.services()}>Services</Link>
        <span aria-hidden="true">/</span>
        <span>{service}</span>
      </nav>
      <div className="page-head-row">
        <h1>{service}</h1>
        {children}
      </div>
      <nav className="tabs" aria-label="Service views">
        <NavLink to={paths.overview(service)} end>
          Overview
        </NavLink>
        <NavLink to={paths.workflowRuns(service)} end>
          Workflow runs
        </NavLink>
        <NavLink to={paths.traces(service)} end>
          Traces
        </NavLink>
        <Link to={paths.search(new URLSearchParams({ service }))}>Search</Link>
      </nav>
    </div>
  );
}
